"""The Embedder service: hosts a CLIP model and batches embedding requests."""
