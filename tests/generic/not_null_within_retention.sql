{#- not_null, except where the retention purge has been: a column of class C may be NULL on rows
    dated before the last purge's reference date less C's retention (`pii_retained_since`). The
    class is the column's `meta.pii`; `dated_by` is the row's date as the purge measures it: the UTC
    date of the raw partition field for staging, the key date of an incremental table. With
    `unconsented`, also on rows dated before the days whose unconsented events the purge stripped
    of their clear ids (orchestration/governance/unconsented.py): staging cannot tell those events
    from others without the consent the build joins later. In a windowed run, only the rows
    window_condition keeps (an incremental model's rebuilt partitions, a growing source's new days). -#}
{% test not_null_within_retention(model, column_name, dated_by, unconsented=false) %}
    {%- set pii, window = 'none', none -%}
    {%- if execute -%}
        {%- set node = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'model')
            | selectattr('alias', 'equalto', model.identifier) | first -%}
        {%- set pii = node.columns[column_name].meta.pii -%}
        {%- set window = window_condition(node) -%}
    {%- endif -%}
    select {{ column_name }}
    from {{ model }}
    where
        {{ column_name }} is null
        and not coalesce(cast({{ dated_by }} as date) < {{ pii_retained_since(pii) }}, false)
        {%- if unconsented %}
        and not coalesce(cast({{ dated_by }} as date) < {{ unconsented_ids_kept_since() }}, false)
        {%- endif %}
        {%- if window %}
        and {{ window }}
        {%- endif %}
{% endtest %}
