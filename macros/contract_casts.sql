{#- Contracted models: types chosen, not inferred. The select dbt wraps around a contracted model
    (get_select_subquery) casts every column to the type its YAML declares, in this engine's
    spelling (engine_type), so a mart has the same declared types on DuckDB and Spark whatever each
    engine infers for a sum or a percentile. The contract check (get_assert_columns_equivalent)
    then holds the model to the declared column names, none missing and none extra; the types
    hold by construction. Both override dbt's defaults for every adapter. -#}
{% macro default__get_select_subquery(sql) %}
    select
    {%- for column in model['columns'].values() %}
        {%- set name = adapter.quote(column['name']) if column.get('quote') else column['name'] %}
        cast({{ name }} as {{ engine_type(column['data_type']) }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
    from (
        {{ sql }}
    ) as model_subq
{%- endmacro %}

{% macro default__get_assert_columns_equivalent(sql) %}
    {%- set declared = model['columns'].values() | map(attribute='name') | map('lower') | list -%}
    {%- set built = get_column_schema_from_query(sql, config.get('sql_header', none))
        | map(attribute='name') | map('lower') | list -%}
    {%- set missing = declared | reject('in', built) | list -%}
    {%- set extra = built | reject('in', declared) | list -%}
    {%- if not declared or missing or extra or built | length != declared | length -%}
        {{ exceptions.raise_compiler_error(
            'Contract of ' ~ model['name'] ~ ': columns declared but not built: ' ~ missing
            ~ '; built but not declared: ' ~ extra) }}
    {%- endif -%}
{% endmacro %}

{#- On Spark an incremental run's new rows are a temporary view, which dbt-spark creates from the
    model's SQL as it stands, so a contracted model's rows keep the types Spark infers (a sum of
    decimal(18,2) is decimal(28,2)) and the check against the table's declared types stops the run
    (on_schema_change: fail). The view gets the contract's casts, as the table did. -#}
{% macro spark__create_temporary_view(relation, compiled_code) -%}
    {%- if config.get('contract').enforced -%}
        {%- set compiled_code = get_select_subquery(compiled_code) -%}
    {%- endif %}
    create or replace temporary view {{ relation }} as
    {{ compiled_code }}
{%- endmacro %}
