"""Model banks: M independent models evaluated in one batched call."""
