{#- Every column of `relation` (a CTE or table alias) but `columns`, in their order. DuckDB and
    Spark both read `* except (...)`, but sqlfluff's DuckDB dialect parses only DuckDB's own
    spelling, `exclude`. -#}
{% macro star_except(relation, columns) %}
    {{ return(adapter.dispatch('star_except', 'commerce_analytics')(relation, columns)) }}
{% endmacro %}

{% macro duckdb__star_except(relation, columns) -%}
    {{ relation }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro default__star_except(relation, columns) -%}
    {{ relation }}.* except ({{ columns | join(', ') }})
{%- endmacro %}
