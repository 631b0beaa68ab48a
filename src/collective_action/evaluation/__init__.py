"""Evaluation: success and accuracy of every run, the tidy tables, the intervals claims are decided on, and the
paper's theory."""
