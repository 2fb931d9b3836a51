CREATE TABLE "authenticators" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"label" text NOT NULL,
	"source" text DEFAULT 'enrolled' NOT NULL,
	"secret_enc" text,
	"last_used_step" bigint,
	"credential_id" text,
	"public_key" text,
	"sign_count" bigint,
	"transports" text[],
	"aaguid" text,
	"user_verified" boolean,
	"backed_up" boolean,
	"confirmed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "authenticators_kind_check" CHECK ("authenticators"."kind" in ('totp','webauthn')),
	CONSTRAINT "authenticators_kind_fields_check" CHECK (("authenticators"."kind" <> 'totp' or ("authenticators"."secret_enc" is not null and "authenticators"."last_used_step" is not null))
      and ("authenticators"."kind" <> 'webauthn' or ("authenticators"."credential_id" is not null and "authenticators"."public_key" is not null and "authenticators"."sign_count" is not null)))
);
--> statement-breakpoint
ALTER TABLE "authenticators" ADD CONSTRAINT "authenticators_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "authenticators_account_idx" ON "authenticators" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "authenticators_credential_id_key" ON "authenticators" USING btree ("credential_id");--> statement-breakpoint
-- Confirmed authenticators move over with their sealed secret (same context: the account) and replay
-- guard; unconfirmed enrolments are dropped: a pending enrolment is now a flow, never a row.
INSERT INTO "authenticators" ("account_id", "kind", "label", "source", "secret_enc", "last_used_step", "confirmed_at", "created_at")
SELECT "account_id", 'totp', 'Authenticator app', "source", "secret_enc", "last_used_step", "confirmed_at", "created_at"
FROM "mfa_totp" WHERE "confirmed_at" IS NOT NULL;--> statement-breakpoint
DROP TABLE "mfa_totp" CASCADE;
