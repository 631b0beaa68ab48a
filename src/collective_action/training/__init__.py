"""Training: the vectorised engine that trains every seed of a cell at once, the train step, and what it needs
(optimiser, augmentation, stopping rules, devices, timing)."""
