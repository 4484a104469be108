-- Each session with the region and city of its customer's address when it started; a session of
-- no known customer has no geography (`unknown`): the truncated IP is never geolocated here.
{{ located_at_address(
    ref('int_sessions_summarized'), ['session_id', 'store_id', 'session_date'], 'started_at', landed_at=true
) }}
