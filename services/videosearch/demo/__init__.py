"""Offline demo assets for videosearch.

* :mod:`videosearch.demo.world` -- a procedurally rendered visual world with captions.
* :mod:`videosearch.demo.tokenizer` -- offline CLIP tokenizer/processor builders and
  :func:`build_tiny_random_clip` for tests.
* :mod:`videosearch.demo.train` / :mod:`videosearch.demo.evaluate` -- train and
  evaluate the small demo CLIP shipped in ``models/demo-clip``.
* :mod:`videosearch.demo.videos` -- demo video (mp4 + ground truth) generator.
* :mod:`videosearch.demo.longtakes` -- long takes whose subject changes through dissolves,
  fades and pans, with each subject's true range.
* :mod:`videosearch.demo.quality` / :mod:`videosearch.demo.moment_quality` -- retrieval
  quality of scenes and of moments through the services.

Heavy dependencies (torch, transformers, cv2) are imported lazily by the submodules
that need them, so importing this package is cheap.
"""
