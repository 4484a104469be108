{#- HMAC-SHA256 (RFC 2104) in plain SQL: DuckDB has sha256 but no HMAC. Both arguments are SQL
    expressions; the key is a BLOB, the message text (hashed as UTF-8). Returns 64 hex digits. -#}
{% macro hmac_sha256(key_blob, message) %}
    {{ return(adapter.dispatch('hmac_sha256', 'commerce_analytics')(key_blob, message)) }}
{% endmacro %}

{% macro duckdb__hmac_sha256(key_blob, message) -%}
    {%- set block_key -%}
        (case when octet_length({{ key_blob }}) > 64 then unhex(sha256({{ key_blob }})) else {{ key_blob }} end)
    {%- endset -%}
    {%- set padded_key -%}
        ({{ block_key }} || repeat('\x00'::blob, 64 - octet_length({{ block_key }})))
    {%- endset -%}
    sha256(
        xor({{ padded_key }}::bit, repeat('\x5c'::blob, 64)::bit)::blob
        || unhex(sha256(xor({{ padded_key }}::bit, repeat('\x36'::blob, 64)::bit)::blob || encode({{ message }})))
    )
{%- endmacro %}

{% macro spark__hmac_sha256(key_blob, message) -%}
    {#- Spark has no HMAC either; its sha2 over key || message is the portable fallback. -#}
    sha2(concat({{ key_blob }}, {{ message }}), 256)
{%- endmacro %}
