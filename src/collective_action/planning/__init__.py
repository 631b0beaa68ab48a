"""Planning: the validated config resolved into a plan (datasets, algorithms, panels, the atlas's variants), the
paths of its artifacts, and the code each job runs."""
