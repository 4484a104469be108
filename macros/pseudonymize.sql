{#- Replace a medium-class personal value by its keyed hash. The key never appears in compiled
    SQL (pii_hmac_key). NULL stays NULL. -#}
{% macro pseudonymize(value) -%}
    case
        when {{ value }} is not null
            then {{ hmac_sha256(pii_hmac_key(), value) }}
    end
{%- endmacro %}
