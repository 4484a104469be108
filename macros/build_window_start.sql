{#- The first UTC date of the run's window ('' when it names none): Dagster sets DBT_WINDOW_START,
    which dbt reads at run time and which, unlike a var, does not make dbt parse the project again;
    by hand, `--vars "{window_start: ...}"`. -#}
{% macro build_window_start() -%}
    {{ return(env_var('DBT_WINDOW_START', '') or var('window_start', '')) }}
{%- endmacro %}
