{#- Coarsen an IP address before hashing it: IPv4 to its /24, IPv6 to its /48. -#}
{% macro truncate_ip(ip) -%}
    {{ return(adapter.dispatch('truncate_ip', 'commerce_analytics')(ip)) }}
{%- endmacro %}

{% macro default__truncate_ip(ip) -%}
    case
        when {{ ip }} like '%:%'
            then array_to_string(list_slice(string_split({{ ip }}, ':'), 1, 3), ':') || '::'
        when {{ ip }} like '%.%.%.%'
            then regexp_replace({{ ip }}, '\.[0-9]+$', '.0')
    end
{%- endmacro %}

{% macro spark__truncate_ip(ip) -%}
    case
        when {{ ip }} like '%:%'
            then concat(array_join(slice(split({{ ip }}, ':'), 1, 3), ':'), '::')
        when {{ ip }} like '%.%.%.%'
            then regexp_replace({{ ip }}, '\.[0-9]+$', '.0')
    end
{%- endmacro %}
