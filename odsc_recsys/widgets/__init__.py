"""Interactive explorers (ipywidgets) for the tutorial notebooks, one module per topic."""
