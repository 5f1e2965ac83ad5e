"""Export a trained network to ONNX, to a standalone NumPy file and to PyTorch code."""
