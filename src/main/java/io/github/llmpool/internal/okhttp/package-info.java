/**
 * The only package that touches OkHttp and Okio: the pool's and the router's application
 * interceptors, the redirect guard, the bounded failover loop of one logical request, request
 * rewriting and the response tap. Not exported: nothing here is API.
 */
package io.github.llmpool.internal.okhttp;
