{#- The calendar date of a UTC timestamp in an IANA time zone (a store's local date). -#}
{% macro local_date(timestamp, time_zone) %}
    {{ return(adapter.dispatch('local_date', 'commerce_analytics')(timestamp, time_zone)) }}
{% endmacro %}

{% macro duckdb__local_date(timestamp, time_zone) -%}
    cast(timezone({{ time_zone }}, {{ timestamp }}) as date)
{%- endmacro %}

{% macro spark__local_date(timestamp, time_zone) -%}
    to_date(from_utc_timestamp({{ timestamp }}, {{ time_zone }}))
{%- endmacro %}

{#- The hour of the day (0-23) of a UTC timestamp on a store's wall clock in an IANA time zone. -#}
{% macro local_hour(timestamp, time_zone) %}
    {{ return(adapter.dispatch('local_hour', 'commerce_analytics')(timestamp, time_zone)) }}
{% endmacro %}

{% macro duckdb__local_hour(timestamp, time_zone) -%}
    cast(hour(timezone({{ time_zone }}, {{ timestamp }})) as integer)
{%- endmacro %}

{% macro spark__local_hour(timestamp, time_zone) -%}
    hour(from_utc_timestamp({{ timestamp }}, {{ time_zone }}))
{%- endmacro %}
