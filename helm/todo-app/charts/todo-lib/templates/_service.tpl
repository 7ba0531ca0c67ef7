{{/*
Everything one service needs: its workload, Service, ServiceAccount,
PodDisruptionBudget, HorizontalPodAutoscaler (when enabled),
NetworkPolicy and ServiceMonitor (when enabled).

A service's subchart is its values plus `{{ include "todo-lib.service" . }}`.
*/}}
{{- define "todo-lib.service" -}}
{{- $g := .Values.global -}}
{{- $name := include "todo-lib.fullname" . -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
---
{{- /*
Websocket replicas are a StatefulSet: each keeps its own consumer group
named after its pod (`{podName}` in pubsub-broadcast), so a restarted
replica must come back under the same name.
*/}}
apiVersion: apps/v1
kind: {{ .Values.kind }}
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "todo-lib.selectorLabels" . | nindent 6 }}
  {{- if eq .Values.kind "StatefulSet" }}
  serviceName: {{ printf "%s-pods" $name }}
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
  {{- else }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  {{- end }}
  template:
    {{- include "todo-lib.podTemplate" . | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "todo-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.port }}
      targetPort: http
      protocol: TCP
    - name: dapr-metrics
      port: {{ $g.dapr.metricsPort }}
      targetPort: {{ $g.dapr.metricsPort }}
      protocol: TCP
    {{- if $g.metrics.enabled }}
    - name: metrics
      port: {{ $g.metrics.port }}
      targetPort: metrics
      protocol: TCP
    {{- end }}
{{- if eq .Values.kind "StatefulSet" }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "%s-pods" $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "todo-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.port }}
      targetPort: http
{{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
spec:
  {{- if .Values.pdb.minAvailable }}
  minAvailable: {{ .Values.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "todo-lib.selectorLabels" . | nindent 6 }}
{{- if .Values.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: {{ .Values.kind }}
    name: {{ $name }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end }}
{{- if $g.networkPolicy.enabled }}
---
{{- /*
Who may reach this pod. Its own sidecar calls the app over localhost,
which no NetworkPolicy filters; from outside the pod only the ingress
controller reaches the app port (services with public routes), other
sidecars reach Dapr's internal port (service invocation), and the
monitoring namespace scrapes metrics. Egress is left open (Kafka, Redis,
PostgreSQL, the Dapr control plane).
*/}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "todo-lib.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    {{- if .Values.public }}
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $g.networkPolicy.ingressNamespace | quote }}
      ports:
        - port: {{ .Values.port }}
          protocol: TCP
    {{- end }}
    # The release's services (only they carry a component label).
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/part-of: todo-app
              app.kubernetes.io/instance: {{ .Release.Name }}
            matchExpressions:
              - key: app.kubernetes.io/component
                operator: Exists
      ports:
        - port: 50002
          protocol: TCP
    {{- if $g.metrics.enabled }}
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $g.networkPolicy.monitoringNamespace | quote }}
      ports:
        - port: {{ $g.metrics.port }}
          protocol: TCP
        - port: {{ $g.dapr.metricsPort }}
          protocol: TCP
    {{- end }}
{{- end }}
{{- if and $g.metrics.enabled $g.metrics.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
    {{- with $g.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "todo-lib.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ $g.metrics.serviceMonitor.interval }}
    - port: dapr-metrics
      path: /
      interval: {{ $g.metrics.serviceMonitor.interval }}
{{- end }}
{{- end -}}
