-- The seed's data model: "urls and clicks tables", plus the per-link daily counter the dashboard
-- reads (upserted by the worker next to each raw click). Applied by migrate.js inside the schema
-- named by NODEREF_SCHEMA (default noderef), which is first on the search_path.
CREATE TABLE IF NOT EXISTS urls (
  id           bigserial PRIMARY KEY,
  slug         varchar(32) NOT NULL UNIQUE,
  original_url text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS clicks (
  id          bigserial PRIMARY KEY,
  url_id      bigint NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
  clicked_at  timestamptz NOT NULL,
  ip          inet,
  country     char(2),
  region      text,
  city        text,
  device_type text,
  browser     text,
  os          text,
  referrer    text
);
CREATE INDEX IF NOT EXISTS clicks_url_id_clicked_at ON clicks (url_id, clicked_at);

CREATE TABLE IF NOT EXISTS daily_clicks (
  url_id bigint NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
  day    date NOT NULL,
  clicks bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (url_id, day)
);
