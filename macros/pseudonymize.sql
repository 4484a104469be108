{#- Replace a medium-class personal value by its keyed hash. The key comes from the pii_key
    plugin as a DuckDB variable, so it never appears in compiled SQL. NULL stays NULL. -#}
{% macro pseudonymize(value) -%}
    case
        when {{ value }} is not null
            then {{ hmac_sha256("encode(getvariable('pii_hmac_key'))", value) }}
    end
{%- endmacro %}
