{#- SQL expression of the pseudonymisation key as bytes, without the key in it. Dispatched. -#}
{% macro pii_hmac_key() %}
    {{ return(adapter.dispatch('pii_hmac_key', 'commerce_analytics')()) }}
{% endmacro %}

{#- DuckDB: the pii_key plugin sets it as a variable on every connection. -#}
{% macro duckdb__pii_hmac_key() -%}
    encode(getvariable('pii_hmac_key'))
{%- endmacro %}

{#- Spark: read from the copy of the key orchestration/privacy.py shares in $DATA_DIR/spark/ (Spark
    skips files named with a leading dot, like the key file itself), so neither compiled SQL nor
    Spark's configuration (`SET`) holds it. -#}
{% macro spark__pii_hmac_key() -%}
    encode((select max(trim(value)) from text.`{{ env_var('DATA_DIR', 'data') }}/spark/pii_hmac_key`), 'utf-8')
{%- endmacro %}
