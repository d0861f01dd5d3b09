<?php
/**
 * A hosted-petition URL on a line of its own (https://SERVICE/c/SLUG?partner=CODE&lang=fr)
 * becomes the petition, as the shortcode would show it. WordPress asks the plugin rather than
 * the service (an embed handler runs before oEmbed), so the full widget shows, not the
 * sandboxed card that WordPress makes of oEmbed providers it discovers. The service is also
 * registered as an oEmbed provider it trusts, for the places that ask oEmbed directly.
 *
 * @package PetitionWidget
 */

defined( 'ABSPATH' ) || exit;

/**
 * Registers the handler and the provider for the configured service.
 */
function petition_widget_register_embed() {
	$service = petition_widget_service();
	if ( '' === $service ) {
		return;
	}
	$pattern = '#^' . preg_quote( $service, '#' ) . '/c/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)/?(?:\?([^\#\s]*))?$#i';
	wp_embed_register_handler( 'petition-widget', $pattern, 'petition_widget_embed_handler' );
	wp_oembed_add_provider( $service . '/c/*', $service . '/oembed' );
}

/**
 * The petition for a matched URL, with the partner and language its query names.
 *
 * @param array $matches The pattern's matches: the slug, then the query.
 * @return string
 */
function petition_widget_embed_handler( $matches ) {
	$query = array();
	if ( isset( $matches[2] ) ) {
		parse_str( html_entity_decode( $matches[2], ENT_QUOTES ), $query );
	}
	$options = array( 'campaign' => $matches[1] );
	foreach ( array( 'partner', 'lang' ) as $name ) {
		if ( isset( $query[ $name ] ) && is_string( $query[ $name ] ) ) {
			$options[ $name ] = $query[ $name ];
		}
	}
	return petition_widget_render( $options );
}
