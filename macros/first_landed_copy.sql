{#- Keep, of each `key`, the copy landed first (lowest `_landing_order`, unique per landed row).
    Equal to deduplicate(relation, key, '_landing_order'), as a join to each key's first landing
    rather than a window over whole rows: a filter on the result's columns then reaches the scan
    of `relation`, so a reader of a few days (an incremental int_events_classified, a windowed test
    of the clickstream or of the sensor readings) reads and hashes those days' rows, and only the
    keys and landing orders of the rest. `relation` is the landed table itself, read twice (a CTE
    read twice may be materialised whole). -#}
{% macro first_landed_copy(relation, key) -%}
    select copies.*
    from {{ relation }} as copies
    inner join (
        select
            {{ key }} as first_key,
            min(_landing_order) as first_landing_order
        from {{ relation }} as all_copies
        group by {{ key }}
    ) as firsts
        on
            copies.{{ key }} = firsts.first_key
            and copies._landing_order = firsts.first_landing_order
{%- endmacro %}
