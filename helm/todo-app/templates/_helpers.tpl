{{/* Kafka bootstrap servers: the bundled Kafka unless given. */}}
{{- define "todo-app.kafkaBrokers" -}}
{{- if .Values.dapr.kafkaBrokers -}}
{{- .Values.dapr.kafkaBrokers -}}
{{- else if .Values.kafka.enabled -}}
{{- printf "%s-kafka:9092" .Release.Name -}}
{{- else -}}
{{- fail "dapr.kafkaBrokers is required when kafka.enabled is false" -}}
{{- end -}}
{{- end -}}

{{/* Redis host:port: the bundled Redis unless given. */}}
{{- define "todo-app.redisHost" -}}
{{- if .Values.dapr.redisHost -}}
{{- .Values.dapr.redisHost -}}
{{- else if .Values.redis.enabled -}}
{{- printf "%s-redis:6379" .Release.Name -}}
{{- else -}}
{{- fail "dapr.redisHost is required when redis.enabled is false" -}}
{{- end -}}
{{- end -}}

{{/* The apps of this chart (spin.toml's components). */}}
{{- define "todo-app.apps" -}}
{{- list "chat-api" "notification" "recurring-task" "audit" "websocket" "frontend" | toJson -}}
{{- end -}}

{{- define "todo-app.labels" -}}
app.kubernetes.io/part-of: todo-app
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
