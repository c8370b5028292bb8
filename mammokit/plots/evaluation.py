"""Figures for evaluation and Grad-CAM (notebook 06)."""
from __future__ import annotations

__all__: list[str] = []
