{{/*
Names and labels. A service's Kubernetes objects are `<release>-<component>`;
its Dapr app id is the component id itself (app ids are what components
invoke each other by, so they do not depend on the release name).
*/}}
{{- define "todo-lib.fullname" -}}
{{- printf "%s-%s" .Release.Name .Values.component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "todo-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.component }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "todo-lib.labels" -}}
{{ include "todo-lib.selectorLabels" . }}
app.kubernetes.io/part-of: todo-app
app.kubernetes.io/component: {{ .Values.component }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The host image: by digest when one is given (promotion), else by tag. */}}
{{- define "todo-lib.image" -}}
{{- $image := .Values.global.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Whether this component keeps durable data (PostgreSQL state store). */}}
{{- define "todo-lib.durable" -}}
{{- if has .Values.component .Values.global.dapr.durableApps -}}true{{- end -}}
{{- end -}}
