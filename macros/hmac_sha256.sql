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
    {#- Spark has sha2 but neither HMAC nor XOR on binaries: the padded key is XORed byte by byte
        through its hex digits, so the pseudonyms equal DuckDB's for the same key. Each pad is a
        scalar subquery over the key: computed once per query, and the key may itself come from a
        subquery, which Spark refuses inside the lambda. -#}
    {%- set padded_hex = "rpad(hex(case when octet_length(k) > 64 then unhex(sha2(k, 256)) else k end), 128, '0')" -%}
    {%- set pads = {} -%}
    {%- for name, byte in [('outer', 92), ('inner', 54)] -%}
        {%- do pads.update({name: "(select unhex(array_join(transform(regexp_extract_all(" ~ padded_hex ~ ", '(..)', 1), "
            ~ "b -> lpad(hex(cast(conv(b, 16, 10) as int) ^ " ~ byte ~ "), 2, '0')), '')) from (select "
            ~ key_blob ~ " as k) as hmac_key)"}) -%}
    {%- endfor -%}
    sha2(
        concat(
            {{ pads.outer }},
            unhex(sha2(concat({{ pads.inner }}, encode({{ message }}, 'utf-8')), 256))
        ),
        256
    )
{%- endmacro %}
