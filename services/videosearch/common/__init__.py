"""Pieces shared by the three services: errors, settings, wire codecs, server bootstrap."""
