-- Footfall base schema: configuration, facts, receipts, access. Same on both paths.

CREATE TABLE stores (
    store_id        text PRIMARY KEY,
    name            text NOT NULL,
    timezone        text NOT NULL,
    sales_area_m2   numeric(12, 2) CHECK (sales_area_m2 > 0),
    currency        char(3) NOT NULL DEFAULT 'EUR',
    opening_hours   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE floors (
    store_id    text NOT NULL REFERENCES stores ON DELETE CASCADE,
    floor_id    text NOT NULL,
    name        text NOT NULL DEFAULT '',
    width_m     double precision NOT NULL CHECK (width_m > 0),
    height_m    double precision NOT NULL CHECK (height_m > 0),
    PRIMARY KEY (store_id, floor_id)
);

CREATE TABLE doors (
    store_id        text NOT NULL REFERENCES stores ON DELETE CASCADE,
    door_id         text NOT NULL,
    name            text NOT NULL DEFAULT '',
    kind            text NOT NULL DEFAULT 'customer' CHECK (kind IN ('customer', 'staff')),
    outward_counter boolean NOT NULL DEFAULT false,
    PRIMARY KEY (store_id, door_id)
);

CREATE TABLE zones (
    store_id    text NOT NULL,
    zone_id     text NOT NULL,
    floor_id    text NOT NULL,
    name        text NOT NULL DEFAULT '',
    polygon     jsonb NOT NULL,
    area_m2     double precision NOT NULL CHECK (area_m2 > 0),
    categories  text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (store_id, zone_id),
    FOREIGN KEY (store_id, floor_id) REFERENCES floors ON DELETE CASCADE
);
CREATE INDEX zones_categories_idx ON zones USING gin (categories);

CREATE TABLE devices (
    device_id       text PRIMARY KEY,
    store_id        text NOT NULL REFERENCES stores ON DELETE CASCADE,
    kind            text NOT NULL
                    CHECK (kind IN ('edge', 'counter_tcp', 'counter_http', 'counter_mqtt', 'camera')),
    name            text NOT NULL DEFAULT '',
    credential_hash text,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_store_idx ON devices (store_id);

-- Which doors a device may report counts for (ingest refuses counts for other doors).
CREATE TABLE device_doors (
    device_id   text NOT NULL REFERENCES devices ON DELETE CASCADE,
    store_id    text NOT NULL,
    door_id     text NOT NULL,
    PRIMARY KEY (device_id, door_id),
    FOREIGN KEY (store_id, door_id) REFERENCES doors ON DELETE CASCADE
);

CREATE TABLE cameras (
    device_id   text PRIMARY KEY REFERENCES devices ON DELETE CASCADE,
    store_id    text NOT NULL,
    floor_id    text NOT NULL,
    homography  double precision[],
    calibration jsonb NOT NULL DEFAULT '[]'::jsonb,
    lines       jsonb NOT NULL DEFAULT '[]'::jsonb,
    zones       text[] NOT NULL DEFAULT '{}',
    FOREIGN KEY (store_id, floor_id) REFERENCES floors ON DELETE CASCADE,
    CHECK (homography IS NULL OR cardinality(homography) = 9)
);

-- Facts from devices. Natural keys reject duplicates (redeliveries, edge replays).
-- No foreign keys: ingest validates against the configuration, and facts outlive it.

CREATE TABLE door_counts (
    store_id    text NOT NULL,
    device_id   text NOT NULL,
    door_id     text NOT NULL,
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz NOT NULL,
    entries     integer NOT NULL CHECK (entries >= 0),
    exits       integer NOT NULL CHECK (exits >= 0),
    passersby   integer CHECK (passersby >= 0),
    valid       boolean NOT NULL DEFAULT true,
    seq         bigint NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, door_id, start_ts),
    CHECK (end_ts > start_ts)
);
CREATE INDEX door_counts_store_ts_idx ON door_counts (store_id, start_ts);

CREATE TABLE occupancy (
    store_id    text NOT NULL,
    device_id   text NOT NULL,
    zone_id     text NOT NULL DEFAULT '',   -- '' is the whole store
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz NOT NULL,
    occupancy   integer NOT NULL CHECK (occupancy >= 0),
    peak        integer CHECK (peak >= 0),
    valid       boolean NOT NULL DEFAULT true,
    seq         bigint NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, zone_id, start_ts),
    CHECK (end_ts > start_ts)
);
CREATE INDEX occupancy_store_ts_idx ON occupancy (store_id, start_ts);

CREATE TABLE heatmap_cells (
    store_id    text NOT NULL,
    device_id   text NOT NULL,
    floor_id    text NOT NULL,
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz NOT NULL,
    cell_m      real NOT NULL CHECK (cell_m > 0),
    x           integer NOT NULL CHECK (x >= 0),
    y           integer NOT NULL CHECK (y >= 0),
    presence_s  real NOT NULL CHECK (presence_s >= 0),
    tracks      integer NOT NULL CHECK (tracks > 0),
    valid       boolean NOT NULL DEFAULT true,
    seq         bigint NOT NULL,
    PRIMARY KEY (device_id, floor_id, start_ts, x, y),
    CHECK (end_ts > start_ts)
);
CREATE INDEX heatmap_cells_store_ts_idx ON heatmap_cells (store_id, floor_id, start_ts);

CREATE TABLE zone_visits (
    store_id    text NOT NULL,
    device_id   text NOT NULL,
    zone_id     text NOT NULL,
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz NOT NULL,
    entries     integer NOT NULL CHECK (entries >= 0),
    exits       integer NOT NULL CHECK (exits >= 0),
    dwell_s     real[] NOT NULL DEFAULT '{}',
    occupancy   integer CHECK (occupancy >= 0),
    valid       boolean NOT NULL DEFAULT true,
    seq         bigint NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, zone_id, start_ts),
    CHECK (end_ts > start_ts)
);
CREATE INDEX zone_visits_store_ts_idx ON zone_visits (store_id, zone_id, start_ts);

CREATE TABLE tracks (
    store_id    text NOT NULL,
    device_id   text NOT NULL,
    floor_id    text NOT NULL,
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz NOT NULL,
    track_no    integer NOT NULL CHECK (track_no >= 0),   -- position in its reading, not an identity
    points      jsonb NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (device_id, floor_id, start_ts, track_no),
    CHECK (end_ts > start_ts)
);

CREATE TABLE heartbeats (
    store_id     text NOT NULL,
    device_id    text NOT NULL,
    start_ts     timestamptz NOT NULL,
    end_ts       timestamptz NOT NULL,
    seq          bigint NOT NULL,
    sent_at      timestamptz NOT NULL,
    uptime_s     double precision NOT NULL,
    queue_depth  integer NOT NULL,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, start_ts)
);
CREATE INDEX heartbeats_store_ts_idx ON heartbeats (store_id, start_ts);

CREATE TABLE device_status (
    device_id   text PRIMARY KEY,
    store_id    text NOT NULL,
    state       text NOT NULL CHECK (state IN ('online', 'offline')),
    seq         bigint NOT NULL,
    sent_at     timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dead_letters (
    id            bigserial PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    topic         text NOT NULL,
    store_id      text,
    device_id     text,
    reason_code   text NOT NULL,
    reason        text NOT NULL,
    payload       bytea NOT NULL,          -- bounded by ingest.dead_letter_keep_bytes
    payload_size  integer NOT NULL
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason_code);

-- Point of sale.

CREATE TABLE receipts (
    store_id     text NOT NULL REFERENCES stores ON DELETE CASCADE,
    receipt_id   text NOT NULL,
    ts           timestamptz NOT NULL,
    register_id  text,
    kind         text NOT NULL DEFAULT 'sale' CHECK (kind IN ('sale', 'refund')),
    voided       boolean NOT NULL DEFAULT false,
    total        numeric(14, 2) NOT NULL,   -- signed: refunds are negative
    items        numeric(12, 3) NOT NULL DEFAULT 0,
    loyalty      boolean NOT NULL DEFAULT false,
    currency     char(3),
    source       text NOT NULL DEFAULT 'api',
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, receipt_id)
);
CREATE INDEX receipts_store_ts_idx ON receipts (store_id, ts);

CREATE TABLE receipt_lines (
    store_id     text NOT NULL,
    receipt_id   text NOT NULL,
    line_no      integer NOT NULL,
    sku          text,
    description  text,
    category     text,
    quantity     numeric(12, 3) NOT NULL,
    unit_price   numeric(14, 4),
    amount       numeric(14, 2) NOT NULL,
    is_return    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (store_id, receipt_id, line_no),
    FOREIGN KEY (store_id, receipt_id) REFERENCES receipts ON DELETE CASCADE
);
CREATE INDEX receipt_lines_category_idx ON receipt_lines (store_id, category);

CREATE TABLE plans (
    store_id           text NOT NULL REFERENCES stores ON DELETE CASCADE,
    month              date NOT NULL CHECK (extract(day FROM month) = 1),
    revenue_target     numeric(14, 2) NOT NULL CHECK (revenue_target >= 0),
    traffic_target     integer CHECK (traffic_target >= 0),
    conversion_target  double precision CHECK (conversion_target BETWEEN 0 AND 1),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, month)
);

CREATE TABLE staff_shifts (
    store_id   text NOT NULL REFERENCES stores ON DELETE CASCADE,
    shift_id   text NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    role       text NOT NULL DEFAULT 'sales',
    PRIMARY KEY (store_id, shift_id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX staff_shifts_store_ts_idx ON staff_shifts (store_id, starts_at);

-- Access.

CREATE TABLE users (
    user_id        bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    email          text,
    password_hash  text,
    role           text NOT NULL CHECK (role IN ('admin', 'manager', 'merchandiser', 'alert_subscriber')),
    all_stores     boolean NOT NULL DEFAULT false,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_stores (
    user_id   bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    store_id  text NOT NULL REFERENCES stores ON DELETE CASCADE,
    PRIMARY KEY (user_id, store_id)
);

CREATE TABLE api_keys (
    key_id        bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    prefix        text NOT NULL UNIQUE,     -- shown in lists; the secret part is only hashed
    key_hash      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
