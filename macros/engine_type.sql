{#- A column type as this engine spells it. Types are declared once, in YAML, in DuckDB's names;
    Spark has no bare VARCHAR, no TIMESTAMPTZ (its TIMESTAMP is the instant in the session's zone,
    UTC here), no HUGEINT and no JSON type. -#}
{% macro engine_type(data_type) %}
    {{ return(adapter.dispatch('engine_type', 'commerce_analytics')(data_type)) }}
{% endmacro %}

{% macro default__engine_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro spark__engine_type(data_type) -%}
    {%- set spark_names = {
        'varchar': 'string',
        'text': 'string',
        'json': 'string',
        'timestamptz': 'timestamp',
        'timestamp with time zone': 'timestamp',
        'hugeint': 'decimal(38,0)',
        'integer': 'int',
    } -%}
    {{ return(spark_names.get(data_type | lower | trim, data_type)) }}
{%- endmacro %}
