{#- Keep, of each `key`, the copy landed first (lowest `_landing_order`, unique per landed row).
    Equal to deduplicate(relation, key, '_landing_order'), as a join to each key's first landing
    rather than a window over whole rows: a filter on the result's columns then reaches the scan
    of `relation`, so a reader of a few days (an incremental model, a windowed test) reads and
    hashes those days' rows, and only the keys and landing orders of the rest. `relation` is the
    landed table itself, read twice (a CTE read twice may be materialised whole). -#}
{% macro first_landed_copy(relation, key) -%}
    {{ landed_copy(relation, key, 'min') }}
{%- endmacro %}

{#- Keep, of each `key`, the copy landed last: deduplicate(relation, key, '_landing_order desc')
    as the same join, for a source re-exported on change (the patch applications). -#}
{% macro last_landed_copy(relation, key) -%}
    {{ landed_copy(relation, key, 'max') }}
{%- endmacro %}

{#- The copy of each `key` whose `_landing_order` is the `pick` (min or max) of its copies. -#}
{% macro landed_copy(relation, key, pick) -%}
    select copies.*
    from {{ relation }} as copies
    inner join (
        select
            {{ key }} as kept_key,
            {{ pick }}(_landing_order) as kept_landing_order
        from {{ relation }} as all_copies
        group by {{ key }}
    ) as kept
        on
            copies.{{ key }} = kept.kept_key
            and copies._landing_order = kept.kept_landing_order
{%- endmacro %}
