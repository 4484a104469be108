{#- Replace a customer or device id, or another medium-class personal value, by its keyed hash.
    The key never appears in compiled SQL (pii_hmac_key). NULL stays NULL. A value the retention
    purge already replaced in raw by its key is marked (orchestration/governance/pseudonyms.py,
    `pseudonym:` and 64 hex digits): it passes through, unmarked, rather than being hashed again. -#}
{% macro pseudonymize(value) -%}
    case
        when {{ value }} like 'pseudonym:%'
            then substr({{ value }}, 11)
        when {{ value }} is not null
            then {{ hmac_sha256(pii_hmac_key(), value) }}
    end
{%- endmacro %}
