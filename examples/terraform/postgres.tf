# Store: PostgreSQL (RDS, or Aurora behind RDS Proxy). The table is created on the first cold start
# (`migrate=true`); drop that parameter and run @idemkit/postgres/sql/schema.sql from your own
# migrations if the function's database user may not CREATE. The URL carries a password: keep it
# in a secret (here a sensitive variable), or build the pg Pool in code from Secrets Manager.

variable "subnet_ids" {
  type = list(string)
}

variable "vpc_id" {
  type = string
}

variable "database_host" {
  description = "The RDS Proxy (recommended with Lambda) or instance endpoint."
  type        = string
}

variable "database_security_group_id" {
  description = "The database's security group; it must admit the function on 5432."
  type        = string
}

variable "database_password" {
  type      = string
  sensitive = true
}

resource "aws_security_group" "consumer" {
  name   = "genesys-crm-sync"
  vpc_id = var.vpc_id
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "database_from_consumer" {
  type                     = "ingress"
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
  security_group_id        = var.database_security_group_id
  source_security_group_id = aws_security_group.consumer.id
}

locals {
  idemkit_store     = "postgres://idemkit:${urlencode(var.database_password)}@${var.database_host}:5432/app?sslmode=require&migrate=true"
  store_policy_arns = ["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"]
  vpc_config        = { subnet_ids = var.subnet_ids, security_group_ids = [aws_security_group.consumer.id] }
}
