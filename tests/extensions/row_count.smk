

# The number of rows of a panel's table (tests/extensions/row_count.py).
rule row_count:
    input:
        JOBS["row_count"].inputs,
    output:
        paths.pattern("row_count"),
    log:
        "logs/row_count/{panel}.log",
    params:
        spec=JOBS["row_count"].params,
    script:
        STEP_SCRIPT
