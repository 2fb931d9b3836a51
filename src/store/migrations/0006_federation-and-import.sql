ALTER TABLE "accounts" ADD COLUMN "imported_password_digest" text;--> statement-breakpoint
ALTER TABLE "upstream_idps" ADD COLUMN "allowed_domains" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "upstream_idps" ADD COLUMN "account_matching" text DEFAULT 'link' NOT NULL;--> statement-breakpoint
ALTER TABLE "upstream_idps" ADD COLUMN "default_role" text DEFAULT 'user' NOT NULL;--> statement-breakpoint
ALTER TABLE "upstream_idps" ADD COLUMN "mfa_acr_values" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE INDEX "upstream_idps_tenant_idx" ON "upstream_idps" USING btree ("tenant_id");--> statement-breakpoint
ALTER TABLE "upstream_idps" DROP COLUMN "auto_provision";--> statement-breakpoint
ALTER TABLE "upstream_idps" ADD CONSTRAINT "upstream_idps_account_matching_check" CHECK ("upstream_idps"."account_matching" in ('link','create','invite_only'));--> statement-breakpoint
ALTER TABLE "upstream_idps" ADD CONSTRAINT "upstream_idps_default_role_check" CHECK ("upstream_idps"."default_role" in ('owner','super_admin','admin','support','user'));