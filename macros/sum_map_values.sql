{#- Sum of a map's numeric values (0 for an empty or NULL map), optionally only of the entries
    whose key, up to its first ':', equals `key_prefix`. -#}
{% macro sum_map_values(map, key_prefix=none) %}
    {{ return(adapter.dispatch('sum_map_values', 'commerce_analytics')(map, key_prefix)) }}
{% endmacro %}

{% macro default__sum_map_values(map, key_prefix) -%}
    {%- if key_prefix is none -%}
        coalesce(list_sum(map_values({{ map }})), 0)
    {%- else -%}
        coalesce(list_sum([
            entry.value for entry in map_entries({{ map }}) if split_part(entry.key, ':', 1) = '{{ key_prefix }}'
        ]), 0)
    {%- endif -%}
{%- endmacro %}

{% macro spark__sum_map_values(map, key_prefix) -%}
    {%- set entries = map if key_prefix is none
        else "map_filter(" ~ map ~ ", (k, v) -> split_part(k, ':', 1) = '" ~ key_prefix ~ "')" -%}
    coalesce(aggregate(map_values({{ entries }}), cast(0 as bigint), (total, v) -> total + v), 0)
{%- endmacro %}
