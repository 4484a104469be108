{#- SQL condition: the store-local `date_column` lies on a day whose inputs the last retention
    purge may have emptied, so a rebuild would no longer reproduce it. The purge dates raw rows by
    their UTC date, and a local day draws on the UTC days either side of it, hence the day of margin;
    a model whose rows also read the `trailing_days` before their date (a 30-day active-user count
    reads 29) closes that much later. False before any purge. The class is the first whose purge
    changes what a mart reads: past 90 days a customer or device id becomes its pseudonymous key
    (the same visitor, the same customer) and no mart reads an IP or user agent beyond bot patterns,
    which the purge keeps; past 2 years page paths, referrers and countries go. -#}
{% macro closed_by_purge(date_column, trailing_days=0, pii='low') -%}
    coalesce(
        {{ date_column }} < {{ dbt.dateadd('day', 1 + trailing_days, pii_retained_since(pii)) }},
        false
    )
{%- endmacro %}
