ALTER TABLE "audit_events" ADD COLUMN "actor" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "enforce_mfa_partner_users_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "enforce_mfa_organizations_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "mfa_grace_days" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_events_actor_account_idx" ON "audit_events" USING btree ("actor_account_id");--> statement-breakpoint
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_mfa_grace_days_check" CHECK ("tenants"."mfa_grace_days" between 0 and 30);--> statement-breakpoint
-- Switches that were already on count as switched on at their last change (no grace was offered then).
UPDATE "tenants" SET "enforce_mfa_partner_users_since" = "updated_at" WHERE "enforce_mfa_partner_users";--> statement-breakpoint
UPDATE "tenants" SET "enforce_mfa_organizations_since" = "updated_at" WHERE "enforce_mfa_organizations";
