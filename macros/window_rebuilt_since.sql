{#- SQL of the first local date a run rebuilds because of its window: the window's first UTC date
    less `lookback_days`; none when the run names no window. Dagster sets DBT_WINDOW_START, which
    dbt reads at run time and which, unlike a var, does not make dbt parse the project again; by
    hand, `--vars "{window_start: ...}"`. -#}
{% macro window_rebuilt_since() -%}
    {%- set window_start = env_var('DBT_WINDOW_START', '') or var('window_start', '') -%}
    {%- if not window_start -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(dbt.dateadd('day', -var('lookback_days'), "cast('" ~ window_start ~ "' as date)")) }}
{%- endmacro %}
