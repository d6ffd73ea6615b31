-- One order + payment cycle as PostgreSQL sees it from boxoffice: the same statements, in the same
-- transactions, touching the same rows (read from the SQL log of one cycle: `python -m bench.run
-- --only statements` writes it to bench/results/cycle-sql.txt). Select lists are `*` where boxoffice
-- names every column. Variables from the harness (pgbench -D): event, organizer, product, quota.
-- 89 statements: 3 request transactions (place order; write the payment attempt; charge and
-- confirm through the inbox) and 2 mail jobs of 4 transactions each.
\set qty random(1, 2)
\set r random(1, 999999999999)

-- POST /v1/orders (11 statements)
BEGIN;
SELECT * FROM events WHERE id = :event;
SELECT * FROM products WHERE event_id = :event AND id IN (:product);
SELECT product_id, quota_id FROM product_quotas WHERE product_id IN (:product);
SELECT id FROM orders WHERE event_id = :event AND code = 'B' || :r;
INSERT INTO orders (event_id, code, secret, email, status, total, payment_mode, expires_at, created_at, holds_quota, locale, payment_total, refund_total, pending_sum, payment_state, has_open_refund) VALUES (:event, 'B' || :r, md5(:r::text), 'buyer' || :r || '@bench.example', 'pending', 49.00 * :qty, 'sandbox', now() + interval '3 days', now(), true, 'en', 0, 0, 49.00 * :qty, 'unpaid', false) RETURNING id AS order_id \gset
INSERT INTO order_positions (order_id, product_id, price, canceled, secret) SELECT :order_id, :product, 49.00, false, md5(random()::text || clock_timestamp()::text || n) FROM generate_series(1, :qty) AS n;
INSERT INTO audit_entries (order_id, actor, action, data, created_at) VALUES (:order_id, 'buyer', 'order.placed', '{"total": "98.00", "email": "buyer@bench.example", "positions": [{"product": 1, "quantity": 2}]}', now()) RETURNING id;
INSERT INTO mails (template, about, cause, organizer_id, order_id, recipients, context, state, attempts, created_at) VALUES ('order-placed', 'order:' || :order_id, 'order.placed', :organizer, :order_id, '["buyer@bench.example"]', '{"order": 1}', 'queued', 0, now()) ON CONFLICT (template, about, cause) DO NOTHING RETURNING id AS mail_placed \gset
INSERT INTO outbox_jobs (task, params, state, dedupe_key, run_at, attempts, max_attempts, created_at) VALUES ('mail.send', json_build_object('mail_id', :mail_placed), 'queued', 'mail:' || :mail_placed, now(), 0, 8, now()) RETURNING id AS job_placed \gset
UPDATE quotas SET used = used + :qty WHERE id = :quota AND (size IS NULL OR used + :qty <= size);
SELECT * FROM webhook_endpoints WHERE organizer_id = :organizer AND enabled IS true ORDER BY id;
COMMIT;

-- POST /v1/orders/{id}/charge, first unit: the payment attempt written ahead (14 statements)
BEGIN;
SELECT * FROM orders LEFT OUTER JOIN events ON events.id = orders.event_id WHERE orders.id = :order_id;
SELECT * FROM orders WHERE id = :order_id FOR UPDATE;
SELECT * FROM order_fees WHERE order_id = :order_id ORDER BY id;
SELECT * FROM payments WHERE order_id = :order_id AND state IN ('created', 'pending');
SELECT * FROM order_positions WHERE order_id = :order_id ORDER BY id;
SELECT state, sum(amount) FROM payments WHERE order_id = :order_id GROUP BY state;
SELECT state, sum(amount) FROM refunds WHERE order_id = :order_id GROUP BY state;
SELECT * FROM orders WHERE id = :order_id FOR UPDATE;
SELECT max(local_id) FROM payments WHERE order_id = :order_id;
INSERT INTO payments (order_id, local_id, provider, amount, state, created_at, info, attempts) VALUES (:order_id, 1, 'sandbox', 49.00 * :qty, 'created', now(), '{"card": {"brand": "visa", "last4": "4242"}}', 0) RETURNING id AS payment_id \gset
INSERT INTO audit_entries (order_id, actor, action, data, created_at) VALUES (:order_id, 'buyer:B' || :r, 'payment.created', '{"payment": "B-P-1", "provider": "sandbox", "amount": "98.00"}', now()) RETURNING id;
SELECT * FROM sandbox_intents WHERE idempotency_key = :event || ':B' || :r || '-P-1';
INSERT INTO sandbox_intents (intent_id, idempotency_key, amount, currency, status, behaviour, card_brand, card_last4, meta, created_at) VALUES ('sbx_pi_' || :r, :event || ':B' || :r || '-P-1', 4900 * :qty, 'eur', 'requires_confirmation', 'succeed', 'visa', '4242', '{"event": "1", "payment": "B-P-1"}', now()) RETURNING id AS intent_row \gset
UPDATE payments SET provider_reference = 'sbx_pi_' || :r WHERE id = :payment_id;
COMMIT;

-- POST /v1/orders/{id}/charge, second unit: the sandbox charges the card and its signed callback
-- goes through the inbox, which confirms the payment and marks the order paid (36 statements)
BEGIN;
SELECT order_id FROM payments WHERE id = :payment_id;
SELECT * FROM orders WHERE id = :order_id FOR UPDATE;
SELECT * FROM payments WHERE id = :payment_id FOR UPDATE;
SELECT * FROM events WHERE id = :event;
INSERT INTO audit_entries (order_id, actor, action, data, created_at) VALUES (:order_id, 'buyer:B' || :r, 'payment.sent', '{"payment": "B-P-1", "attempt": 1}', now()) RETURNING id;
UPDATE payments SET attempts = 1 WHERE id = :payment_id;
SELECT * FROM sandbox_intents WHERE intent_id = 'sbx_pi_' || :r FOR UPDATE;
UPDATE sandbox_intents SET status = 'succeeded' WHERE id = :intent_row;
SELECT organizer_id FROM events WHERE id = :event;
SELECT id FROM provider_events WHERE provider = 'sandbox' AND external_id = 'sbx_evt_' || :r;
SAVEPOINT sa_savepoint_1;
INSERT INTO provider_events (provider, external_id, event_type, payload, organizer_id, state, attempts, received_at, updated_at) VALUES ('sandbox', 'sbx_evt_' || :r, 'payment_intent.succeeded', '{"id": "sbx_evt", "object": "event", "type": "payment_intent.succeeded", "data": {"object": {"id": "sbx_pi", "amount": 9800, "currency": "eur", "status": "succeeded", "metadata": {"event": "1", "payment": "B-P-1"}}}}', :organizer, 'received', 0, now(), now()) RETURNING id AS provider_event \gset
RELEASE SAVEPOINT sa_savepoint_1;
SELECT * FROM provider_events WHERE id = :provider_event FOR UPDATE;
UPDATE provider_events SET attempts = 1, updated_at = now() WHERE id = :provider_event;
SAVEPOINT sa_savepoint_2;
SELECT payments.* FROM payments JOIN orders ON orders.id = payments.order_id WHERE orders.event_id = :event AND orders.code = 'B' || :r AND payments.local_id = 1;
SELECT order_id FROM payments WHERE id = :payment_id;
SELECT * FROM orders WHERE id = :order_id FOR UPDATE;
SELECT * FROM payments WHERE id = :payment_id FOR UPDATE;
INSERT INTO audit_entries (order_id, actor, action, data, created_at) VALUES (:order_id, 'provider:sandbox', 'payment.confirmed', '{"payment": "B-P-1", "amount": "98.00"}', now()) RETURNING id;
UPDATE payments SET state = 'confirmed', payment_date = now() WHERE id = :payment_id;
SELECT state, sum(amount) FROM payments WHERE order_id = :order_id GROUP BY state;
SELECT state, sum(amount) FROM refunds WHERE order_id = :order_id GROUP BY state;
INSERT INTO audit_entries (order_id, actor, action, data, created_at) VALUES (:order_id, 'provider:sandbox', 'order.paid', '{"before": "pending", "late": false}', now()) RETURNING id;
UPDATE orders SET status = 'paid', paid_at = now(), payment_total = 49.00 * :qty, pending_sum = 0, payment_state = 'pending-fully-paid' WHERE id = :order_id;
SELECT count(id) FROM audit_entries WHERE order_id = :order_id AND action = 'order.paid';
INSERT INTO mails (template, about, cause, organizer_id, order_id, recipients, context, state, attempts, created_at) VALUES ('order-paid', 'order:' || :order_id, 'order.paid', :organizer, :order_id, '["buyer@bench.example"]', '{"order": 1}', 'queued', 0, now()) ON CONFLICT (template, about, cause) DO NOTHING RETURNING id AS mail_paid \gset
INSERT INTO outbox_jobs (task, params, state, dedupe_key, run_at, attempts, max_attempts, created_at) VALUES ('mail.send', json_build_object('mail_id', :mail_paid), 'queued', 'mail:' || :mail_paid, now(), 0, 8, now()) RETURNING id AS job_paid \gset
UPDATE orders SET payment_state = 'paid' WHERE id = :order_id;
SELECT * FROM webhook_endpoints WHERE organizer_id = :organizer AND enabled IS true ORDER BY id;
RELEASE SAVEPOINT sa_savepoint_2;
UPDATE provider_events SET order_id = :order_id, state = 'processed', detail = 'payment B-P-1: order-paid', processed_at = now() WHERE id = :provider_event;
SELECT * FROM payments WHERE id = :payment_id FOR UPDATE;
SELECT * FROM payments WHERE id = :payment_id;
SELECT * FROM orders WHERE id = :order_id;
COMMIT;

-- The two mail jobs, each: claim, render, send, finish (4 transactions, 14 statements)
BEGIN;
SELECT task FROM outbox_jobs WHERE id = :job_placed;
UPDATE outbox_jobs SET state = 'running', attempts = attempts + 1, lease_until = now() + interval '5 minutes', claimed_by = 'bench' WHERE id = :job_placed AND state = 'queued' AND run_at <= now() RETURNING params, attempts;
COMMIT;
BEGIN;
SELECT * FROM mails WHERE id = :mail_placed;
SELECT * FROM organizers WHERE id = :organizer;
SELECT * FROM orders WHERE id = :order_id;
SELECT * FROM payments WHERE order_id = :order_id ORDER BY local_id;
SELECT * FROM events WHERE id = :event;
SELECT * FROM order_positions WHERE order_id = :order_id ORDER BY id;
SELECT * FROM products WHERE id = :product;
SELECT * FROM order_fees WHERE order_id = :order_id ORDER BY id;
UPDATE mails SET subject = 'Your order B' WHERE id = :mail_placed;
COMMIT;
BEGIN;
SELECT * FROM mails WHERE id = :mail_placed FOR UPDATE;
UPDATE mails SET state = 'sent', attempts = 1, sent_at = now() WHERE id = :mail_placed;
COMMIT;
BEGIN;
UPDATE outbox_jobs SET state = 'done', lease_until = NULL, last_error = NULL, finished_at = now() WHERE id = :job_placed AND state = 'running' AND attempts = 1;
COMMIT;

BEGIN;
SELECT task FROM outbox_jobs WHERE id = :job_paid;
UPDATE outbox_jobs SET state = 'running', attempts = attempts + 1, lease_until = now() + interval '5 minutes', claimed_by = 'bench' WHERE id = :job_paid AND state = 'queued' AND run_at <= now() RETURNING params, attempts;
COMMIT;
BEGIN;
SELECT * FROM mails WHERE id = :mail_paid;
SELECT * FROM organizers WHERE id = :organizer;
SELECT * FROM orders WHERE id = :order_id;
SELECT * FROM payments WHERE order_id = :order_id ORDER BY local_id;
SELECT * FROM events WHERE id = :event;
SELECT * FROM order_positions WHERE order_id = :order_id ORDER BY id;
SELECT * FROM products WHERE id = :product;
SELECT * FROM order_fees WHERE order_id = :order_id ORDER BY id;
UPDATE mails SET subject = 'Your payment for order B' WHERE id = :mail_paid;
COMMIT;
BEGIN;
SELECT * FROM mails WHERE id = :mail_paid FOR UPDATE;
UPDATE mails SET state = 'sent', attempts = 1, sent_at = now() WHERE id = :mail_paid;
COMMIT;
BEGIN;
UPDATE outbox_jobs SET state = 'done', lease_until = NULL, last_error = NULL, finished_at = now() WHERE id = :job_paid AND state = 'running' AND attempts = 1;
COMMIT;
