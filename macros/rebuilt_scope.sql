{#- The partitions `rebuilt_partitions` says an incremental model rebuilds, found once, at run time,
    from `stamps_sql` (a query of store_id, `date_column` and partition_landed_at), with the first
    and last of their days: the model can then filter its input by those days as literals, which
    reach the table scan and skip the row groups of other days, where a join to the partitions
    reads every row. `missing` is rebuilt_partitions'. None on a full build (and in a dbt unit
    test, which has no `this`); the same shape as classified_scope, so classified_scope_partitions
    writes its partitions out. -#}
{% macro rebuilt_scope(stamps_sql, date_column, missing=false) -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(partition_scope(
        "with stamps as (" ~ stamps_sql ~ ") " ~ rebuilt_partitions('stamps', date_column, missing), date_column
    )) }}
{%- endmacro %}

{#- The scope of an incremental run, found at run time: the (store_id, day) partitions
    `partitions_sql` (a query of store_id and `date_column`) returns, in order, and the first and
    last of their days (none when nothing is to be rebuilt). -#}
{% macro partition_scope(partitions_sql, date_column) -%}
    {%- set partitions = [] -%}
    {%- for row in run_query(
        "select store_id, cast(" ~ date_column ~ " as " ~ dbt.type_string() ~ ") from ("
        ~ partitions_sql ~ ") as rebuilt order by 2, 1"
    ).rows -%}
        {%- do partitions.append((row[0], row[1])) -%}
    {%- endfor -%}
    {{ return({
        'partitions': partitions,
        'first': partitions[0][1] if partitions else none,
        'last': partitions[-1][1] if partitions else none,
    }) }}
{%- endmacro %}

{#- SQL condition: `date_column` falls within the scope's first day and `days_after` its last (a
    model whose partition reads days after its own); false when nothing is rebuilt. -#}
{% macro in_rebuilt_scope(date_column, scope, days_after=0) -%}
    {%- if scope.first is none -%}
        false
    {%- else -%}
        {%- set until = modules.datetime.date.fromisoformat(scope.last) + modules.datetime.timedelta(days=days_after) -%}
        ({{ date_column }} >= cast('{{ scope.first }}' as date) and {{ date_column }} <= cast('{{ until }}' as date))
    {%- endif -%}
{%- endmacro %}

{#- SQL: the rows of `relation` in the scope's (store_id, `date_column`) partitions, read by the
    scope's days as literals, which reach the table scan; every row on a full build (no scope). -#}
{% macro rows_in_rebuilt_scope(relation, date_column, scope) -%}
    select scoped.*
    from {{ relation }} as scoped
    {%- if scope %}
    inner join ({{ classified_scope_partitions(scope) | indent(4) }}) as rebuilt
        on
            scoped.store_id = rebuilt.store_id
            and scoped.{{ date_column }} = rebuilt.event_date
    where {{ in_rebuilt_scope('scoped.' ~ date_column, scope) }}
    {%- endif %}
{%- endmacro %}
