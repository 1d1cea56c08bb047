"""Generated gRPC and Protobuf code for videosearch.v1 (run `make protos`; never edit by hand)."""
