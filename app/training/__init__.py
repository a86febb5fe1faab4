"""Offline work, outside the serving path: training the adapted default model, cross-validation, the
scores (macro-F1, ECE) that training and `claimsift eval` report, and the ONNX graph templates
(``onnx_template``). Only the commands import it; it may use the model and the bottom modules, never
main, the API or the service. What needs torch here needs the [torch] extra."""
