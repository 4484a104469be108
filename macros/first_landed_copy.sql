{#- Keep, of each `key`, the copy landed first (lowest `_landing_order`, unique per landed row).
    Equal to deduplicate(relation, key, '_landing_order'), as a join rather than a window over whole
    rows: a filter on the result's columns then reaches the scan of `relation`, so a reader of a few
    days (an incremental model, a windowed test) reads and hashes those days' rows, and of the rest
    only the keys and the repeated keys' landing orders. `relation` is the landed table itself, read
    three times (a CTE read twice may be materialised whole). -#}
{% macro first_landed_copy(relation, key) -%}
    {{ landed_copy(relation, key, 'min') }}
{%- endmacro %}

{#- Keep, of each `key`, the copy landed last: deduplicate(relation, key, '_landing_order desc')
    as the same join, for a source re-exported on change (the patch applications). -#}
{% macro last_landed_copy(relation, key) -%}
    {{ landed_copy(relation, key, 'max') }}
{%- endmacro %}

{#- The copy of each `key` whose `_landing_order` is the `pick` (min or max) of its copies.
    Landing keeps one copy of an immutable record's key per partition, so its key lands again only
    in another partition, and rarely: the keys landed more than once are found by a hash of every
    key (an aggregate of integers, not of the keys), and only the keys whose hash repeats (a
    repeated key or, far more rarely, two keys sharing a hash) are grouped by the key itself. Every
    other copy is its key's only one. -#}
{% macro landed_copy(relation, key, pick) -%}
    select copies.*
    from {{ relation }} as copies
    left join (
        select
            {{ key }} as kept_key,
            {{ pick }}(_landing_order) as kept_landing_order
        from {{ relation }} as repeated_copies
        where {{ key_hash(key) }} in (
            select {{ key_hash(key) }}
            from {{ relation }} as all_copies
            group by {{ key_hash(key) }}
            having count(*) > 1
        )
        group by {{ key }}
    ) as kept
        on copies.{{ key }} = kept.kept_key
    where
        copies.{{ key }} is not null
        and (kept.kept_key is null or copies._landing_order = kept.kept_landing_order)
{%- endmacro %}
