"""The steps of the workflow and how a job runs: each step's inputs and params, the dispatch from a Snakemake rule
to the package, and the warm worker."""
