"""Command-line client of videosearch: `videosearch index|search|videos|jobs|stats`."""
