{#- Pre-hook of a model rebuilt by partition (macros/rebuilt_partitions.sql): delete its partitions
    whose input is gone. delete+insert replaces only the partitions the new rows name, and the input
    of a vanished partition names none: a late consent withdrawal that excludes every event of a
    store-day empties that day downstream, while the rows built before it would stay. `input` yields
    the model's rows, one (store_id, `input_date_column`) partition per partition of the model, where
    `condition` holds (in its own column names). A model whose row for a day reads the
    `trailing_days` before it (a 30-day active-user count) also deletes those days after a vanished
    one, and a model whose row reads the `leading_days` after it (a visitor's funnel entry, the
    conversion window after it) those days before; `rebuilt_partitions(..., missing=true)` then
    builds them again. Spark has no DELETE on Parquet: there each such partition is overwritten
    with no rows (`empty_spark_partition`). -#}
{% macro delete_vanished_partitions(date_column, input, input_date_column, condition='true', trailing_days=0, leading_days=0) %}
    {{ return(adapter.dispatch('delete_vanished_partitions', 'commerce_analytics')(
        date_column, input, input_date_column, condition, trailing_days, leading_days
    )) }}
{% endmacro %}

{% macro duckdb__delete_vanished_partitions(date_column, input, input_date_column, condition, trailing_days, leading_days) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        using (
            {{ partitions_to_remove(date_column, input, input_date_column, condition, trailing_days, leading_days) }}
        ) as removed
        where
            built.store_id = removed.store_id
            and built.{{ date_column }} = removed.{{ date_column }}
    {%- endif -%}
{%- endmacro %}

{#- Spark: the same partitions, each emptied by a static overwrite as the hook renders; the hook's
    own SQL is empty. -#}
{% macro spark__delete_vanished_partitions(date_column, input, input_date_column, condition, trailing_days, leading_days) -%}
    {%- if execute and is_incremental() -%}
        {%- do empty_spark_partitions(
            date_column, partitions_to_remove(date_column, input, input_date_column, condition, trailing_days, leading_days)
        ) -%}
    {%- endif -%}
{%- endmacro %}

{#- SQL: the (store_id, `date_column`) partitions of the running model to remove, on both engines:
    each whose input is gone, the `trailing_days` after it and the `leading_days` before it. -#}
{% macro partitions_to_remove(date_column, input, input_date_column, condition, trailing_days, leading_days) -%}
    select distinct
        built.store_id,
        built.{{ date_column }}
    from {{ this }} as built
    inner join (
        {{ vanished_partitions(date_column, input, input_date_column, condition) }}
    ) as vanished
        on
            built.store_id = vanished.store_id
            and built.{{ date_column }} >= {{ add_days(-leading_days, 'vanished.vanished_date') }}
            and built.{{ date_column }} <= {{ add_days(trailing_days, 'vanished.vanished_date') }}
{%- endmacro %}

{#- SQL: the (store_id, vanished_date) partitions of the running model whose input is gone. -#}
{% macro vanished_partitions(date_column, input, input_date_column, condition) -%}
    select distinct
        store_id,
        {{ date_column }} as vanished_date
    from {{ this }} as partitions
    where not exists (
        select 1
        from {{ input }} as input
        where
            input.store_id = partitions.store_id
            and input.{{ input_date_column }} = partitions.{{ date_column }}
            and {{ condition }}
    )
{%- endmacro %}

{#- Spark: empty every (store_id, date) partition `partitions_sql` lists, as the caller renders; the
    table's data columns are described once for all of them. -#}
{% macro empty_spark_partitions(date_column, partitions_sql) -%}
    {%- set partitions = run_query(partitions_sql) -%}
    {%- if partitions.rows | length -%}
        {%- set data_columns = adapter.get_columns_in_relation(this)
            | rejectattr('name', 'in', ['store_id', date_column]) | list -%}
        {%- for partition in partitions -%}
            {%- do run_query(empty_spark_partition(date_column, data_columns, partition[0], partition[1])) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Spark SQL replacing one (store, date) partition of the running model's table with no rows: a
    static partition overwrite of typed NULLs that match nothing (a query reading the table itself
    may not overwrite it). -#}
{% macro empty_spark_partition(date_column, data_columns, store_id, day) -%}
    insert overwrite table {{ this }}
    partition (store_id = '{{ store_id }}', {{ date_column }} = '{{ day }}')
    select
        {%- for column in data_columns %}
        cast(null as {{ column.dtype }}) as {{ column.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    where 1 = 0
{%- endmacro %}

{% macro default__delete_vanished_partitions(date_column, input, input_date_column, condition, trailing_days, leading_days) -%}
{%- endmacro %}

{#- Pre-hook SQL of a model that rebuilds every day from its scope's first day (`scope.day`,
    YYYY-MM-DD; sensor_readings_first_day, device_days_scope) on: delete those days, which the
    insert then writes whole, so a day left without rows goes too, and no input is read to find
    it. Days before them keep their rows: raw rows are never deleted but by an erasure, whose
    rebuild covers every open day and then deletes the rows naming its subject wherever they are.
    Nothing on a full build (no scope) or when no day is rebuilt. Spark has no DELETE: each such
    partition is emptied as the hook renders. -#}
{% macro delete_days_from(date_column, scope) %}
    {%- if scope is none or scope.day is none -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('delete_days_from', 'commerce_analytics')(date_column, scope.day)) }}
{% endmacro %}

{% macro default__delete_days_from(date_column, day) -%}
    delete from {{ this }} where {{ date_column }} >= cast('{{ day }}' as date)
{%- endmacro %}

{% macro spark__delete_days_from(date_column, day) -%}
    {%- if execute -%}
        {%- do empty_spark_partitions(date_column, (
            "select distinct store_id, " ~ date_column ~ " from " ~ this
            ~ " where " ~ date_column ~ " >= cast('" ~ day ~ "' as date)"
        )) -%}
    {%- endif -%}
{%- endmacro %}
