"""Reproduction of registered versions and the dependency canary (docs/reproduction.md).

`make reproduce` rebuilds a version from its own commit and lock file (`reproduction`,
`rebuild`, `envs`) and compares every DVC output, the ONNX model and the test split's answers
with what registering recorded (`record`, `compare`, `outputs`, `describe`, `answers`,
`kernel`); `make canary` does the same for HEAD with newer dependency releases (`canary`,
`resolve`). Modules are imported by their full path.
"""
