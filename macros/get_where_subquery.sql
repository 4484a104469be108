{#- dbt wraps the `model` of every generic test in get_where_subquery. Overridden so that a test
    in a run that names its window and is not a full refresh reads only what the window rebuilt:
    of an incremental model, the partitions dated on or after window_rebuilt_since() (the unique
    key's date beside store_id); of a staging view of a source that grows by the day, the rows whose
    `meta.window_column` is (window_condition). The test's own `where` still applies. Tests of other
    tables and views, the models a relationship test points to (passed as a plain ref), and singular
    tests read whole tables. Only the tests in partition_local_tests() are limited: their verdict on
    the window's rows cannot depend on rows outside it (docs/warehouse.md says why keys are unique
    across partitions by construction). -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set rebuilt = rebuilt_partitions_condition(relation) -%}
    {%- if rebuilt -%}
        {#- the test's own condition in parentheses: it may hold an `or` -#}
        {%- set where = '(' ~ where ~ ') and ' ~ rebuilt if where else rebuilt -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Generic tests whose verdict on a set of whole partitions depends on those rows only: row checks,
    keys unique by construction across partitions, and relationships (the parent stays whole).
    Tests comparing a model with another one (agrees_with_kpis_daily, sums_to_kpis_daily,
    reconciles_with_fct_orders) would report the other's days outside the window as missing, and
    share_at_most's groups may span days: they read whole tables. -#}
{% macro partition_local_tests() -%}
    {{ return(['unique', 'not_null', 'not_null_columns', 'accepted_values', 'contract_values', 'relationships', 'unique_combination', 'fractions']) }}
{%- endmacro %}

{#- SQL condition keeping what the run's window rebuilt, for the running test on `relation`; none
    when the test reads the whole table. Called with a test node as `model`. -#}
{% macro rebuilt_partitions_condition(relation) -%}
    {%- set test_name = (model.test_metadata or {}).get('name') if model.resource_type == 'test' else none -%}
    {%- if not execute or test_name not in partition_local_tests() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if node is none or node.resource_type != 'model' or node.alias != relation.identifier -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(window_condition(node)) }}
{%- endmacro %}

{#- SQL condition on a model's rows: those a windowed, non-full-refresh run rebuilt, or brought in.
    An incremental model's partitions dated from window_rebuilt_since(); a view's rows whose
    `meta.window_column` (a time of the source's own, the staging views of the clickstream and of
    the sensor readings) is from then, or NULL, which a not_null test of it must still see. None in
    any other run or for any other model: its tests read it whole. -#}
{% macro window_condition(node) -%}
    {%- set window_since = window_rebuilt_since() -%}
    {%- if flags.FULL_REFRESH or window_since is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if node.config.materialized == 'incremental' -%}
        {{ return(partition_date_column(node) ~ ' >= ' ~ window_since | trim) }}
    {%- endif -%}
    {%- set column = node.config.meta.get('window_column') -%}
    {%- if node.config.materialized == 'view' and column -%}
        {{ return('(' ~ column ~ ' >= ' ~ window_since | trim ~ ' or ' ~ column ~ ' is null)') }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- The local-date column of an incremental model's partitions: its unique key is (store_id, date). -#}
{% macro partition_date_column(node) -%}
    {%- set key = node.config.unique_key -%}
    {%- set key = [key] if key is string else key -%}
    {%- set dates = key | reject('equalto', 'store_id') | list -%}
    {%- if 'store_id' not in key or dates | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            node.name ~ ": an incremental model's unique_key must be [store_id, <local date>], not " ~ key
        ) }}
    {%- endif -%}
    {{ return(dates[0]) }}
{%- endmacro %}
