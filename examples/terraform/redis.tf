# Store: Redis on ElastiCache (Redis OSS or Valkey), TLS in transit, in your VPC. The parameter
# group sets maxmemory-policy noeviction: the default volatile-lru could evict live claims.

variable "subnet_ids" {
  description = "Private subnets for the cache and the function (with a route to your downstream services)."
  type        = list(string)
}

variable "vpc_id" {
  type = string
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

resource "aws_security_group" "cache" {
  name   = "genesys-crm-sync-cache"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [aws_security_group.consumer.id]
  }
}

resource "aws_elasticache_parameter_group" "idempotency" {
  name   = "genesys-crm-sync-noeviction"
  family = "redis7"
  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }
}

resource "aws_elasticache_subnet_group" "idempotency" {
  name       = "genesys-crm-sync"
  subnet_ids = var.subnet_ids
}

resource "aws_elasticache_replication_group" "idempotency" {
  replication_group_id       = "genesys-crm-sync"
  description                = "idemkit claims for genesys-crm-sync"
  engine                     = "redis"
  node_type                  = "cache.t4g.micro"
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  parameter_group_name       = aws_elasticache_parameter_group.idempotency.name
  subnet_group_name          = aws_elasticache_subnet_group.idempotency.name
  security_group_ids         = [aws_security_group.cache.id]
  transit_encryption_enabled = true
}

locals {
  idemkit_store     = "rediss://${aws_elasticache_replication_group.idempotency.primary_endpoint_address}:6379"
  store_policy_arns = ["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"]
  vpc_config        = { subnet_ids = var.subnet_ids, security_group_ids = [aws_security_group.consumer.id] }
}
