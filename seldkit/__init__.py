"""seldkit: evaluation of spatial sound event localization and detection systems and spatial-audio encoders."""

__version__ = "0.1.0"

__all__ = ["__version__"]
