-- Formatted citations (citations.rs): the abstract page's default Cite
-- box, rendered by a follower of the change feed instead of on a first
-- view. Derived data: a row serves only while its revision and render key
-- match the record's current revision and what the renderer writes today.
CREATE TABLE citations (
    record_id  BIGINT  PRIMARY KEY,
    revision   BIGINT  NOT NULL,
    render_key TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    html       TEXT    NOT NULL
);
